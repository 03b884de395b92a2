"""Dependency aliases of the posts domain, shared by every router that edits posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tiktimer.kit.schemas import IdInPath
from tiktimer.kit.state import from_state
from tiktimer.posts.service import PostService

PostServiceDep = Annotated[PostService, Depends(from_state("post_service"))]
PostIdPath = Annotated[int, IdInPath("Post not found")]
