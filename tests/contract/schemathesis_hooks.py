"""Schemathesis hooks for the contract run (loaded by path through SCHEMATHESIS_HOOKS).

Every request is authenticated as the run's admin user, logging in again whenever an
answer is 401, except `POST /auth/logout`, which ends every session of its caller: it runs
as a user of its own (CONTRACT_LOGOUT_USERNAME), or with two workers it would keep
revoking the admin's token under the other worker's requests. Generated ids are swapped
for the user's real ones half of the time, so routes reach their owner-side code instead
of stopping at 404.

Configuration comes from the environment the test sets: CONTRACT_BASE_URL,
CONTRACT_USERNAME, CONTRACT_LOGOUT_USERNAME, CONTRACT_PASSWORD and CONTRACT_IDS (JSON: id name →
list of values).
This file is executed by schemathesis, not imported from the test package.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st

BASE_URL = os.environ["CONTRACT_BASE_URL"]
PASSWORD = os.environ["CONTRACT_PASSWORD"]
ADMIN = os.environ["CONTRACT_USERNAME"]
LOGGING_OUT = os.environ["CONTRACT_LOGOUT_USERNAME"]
LOGOUT_PATH = "/auth/logout"
REAL_IDS: dict[str, list[Any]] = json.loads(os.environ.get("CONTRACT_IDS", "{}"))


# tus chunks (PATCH /api/v1/media/uploads/{id}) are raw bytes: schemathesis has no
# serializer for the tus media type, so it is told to generate bytes for it.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))


def _user_for(case: Any, context: Any = None) -> str:
    return LOGGING_OUT if case.path == LOGOUT_PATH else ADMIN


@schemathesis.auth(cache_by_key=_user_for)
class AdminBearer:
    """The run admin's access token (the logging-out user's for logout); schemathesis asks
    again after any 401.

    Most 401s come from cases sent without credentials on purpose, so the token in hand is
    checked first (cheap) before logging in again (a deliberately slow password hash).
    """

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def get(self, case: Any, context: Any) -> str:
        username = _user_for(case)
        token = self.tokens.get(username)
        if token is not None and self._still_valid(token):
            return token
        credentials = {"username": username, "password": PASSWORD}
        response = httpx.post(f"{BASE_URL}/token", data=credentials, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(
                f"the contract run's {username} can no longer log in ({response.status_code} "
                f"{response.text}): a fuzzed request locked it out"
            )
        token = response.json()["access_token"]
        self.tokens[username] = token
        return token

    @staticmethod
    def _still_valid(token: str) -> bool:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{BASE_URL}/users/me", headers=headers, timeout=30).status_code == 200

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _with_real_ids(values: Any) -> Any:
    """The generated values, or the same with every known id name set to a real value."""
    if not isinstance(values, dict):
        return st.just(values)
    known = {name: REAL_IDS[name] for name in values if name in REAL_IDS}
    if not known:
        return st.just(values)
    real = st.fixed_dictionaries({name: st.sampled_from(v) for name, v in known.items()})
    return st.one_of(st.just(values), real.map(lambda chosen: {**values, **chosen}))


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    return _with_real_ids(path_parameters)


@schemathesis.hook
def flatmap_query(context: Any, query: dict[str, Any]) -> Any:
    return _with_real_ids(query)


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    return _with_real_ids(body)
