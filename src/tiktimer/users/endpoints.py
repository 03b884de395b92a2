"""`/register`, `/users/me` and `/admin/users`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from tiktimer.auth.dependencies import AdminUser, CurrentUser
from tiktimer.auth.ratelimits import client_address, limit_register
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbCount
from tiktimer.kit.state import provided
from tiktimer.users.schemas import AdminUserUpdate, UserCreate, UserIdPath, UserRead, UserUpdate
from tiktimer.users.service import UserService

router = APIRouter(tags=["users"])


UserServiceDep = Annotated[UserService, Depends(provided(UserService))]


@router.post(
    "/register",
    response_model=UserRead,
    dependencies=[Depends(limit_register)],
    responses=errors(400, 413, 422, 429),
)
async def register(data: UserCreate, session: SessionDep, users: UserServiceDep) -> UserRead:
    """Create an account. Duplicate username or email → 400."""
    return UserRead.model_validate(await users.register(session, data))


@router.get("/users/me", response_model=UserRead, responses=errors(401))
async def read_me(principal: CurrentUser, session: SessionDep, users: UserServiceDep) -> UserRead:
    """The caller's profile."""
    return UserRead.model_validate(await users.get(session, principal.id))


@router.patch("/users/me", response_model=UserRead, responses=errors(400, 401, 413, 422))
async def update_me(
    request: Request,
    data: UserUpdate,
    principal: CurrentUser,
    session: SessionDep,
    users: UserServiceDep,
) -> UserRead:
    """Change email or time zone; a new password needs `current_password`, ends other sessions."""
    user = await users.get(session, principal.id)
    updated = await users.update_me(session, user, data, address=client_address(request))
    return UserRead.model_validate(updated)


@router.get("/admin/users", response_model=list[UserRead], responses=errors(401, 403, 422))
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    users: UserServiceDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[DbCount, Query()] = 0,
) -> list[UserRead]:
    """Every user (admins only); the total is in `X-Total-Count`."""
    found, total = await users.list_all(session, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return [UserRead.model_validate(u) for u in found]


@router.patch(
    "/admin/users/{user_id}",
    response_model=UserRead,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
async def admin_update_user(
    request: Request,
    user_id: UserIdPath,
    data: AdminUserUpdate,
    admin: AdminUser,
    session: SessionDep,
    users: UserServiceDep,
) -> UserRead:
    """Activate or deactivate a user, grant or revoke admin (admins only).

    A change that would leave no active admin (the last one deactivating or demoting
    itself) → 409.
    """
    user = await users.admin_update(
        session, user_id, data, actor_id=admin.id, address=client_address(request)
    )
    return UserRead.model_validate(user)
