"""Dependency aliases of the posts domain, shared by every router that edits posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tiktimer.kit.schemas import IdInPath
from tiktimer.kit.state import provided
from tiktimer.posts.service import PostService

PostServiceDep = Annotated[PostService, Depends(provided(PostService))]
PostIdPath = Annotated[int, IdInPath("Post not found")]
