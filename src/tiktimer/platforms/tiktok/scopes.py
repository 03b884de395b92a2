"""TikTok's OAuth scopes that posting needs (reference §2)."""

BASIC_SCOPE = "user.info.basic"
DIRECT_POST_SCOPE = "video.publish"
UPLOAD_SCOPE = "video.upload"
POSTING_SCOPES = (BASIC_SCOPE, DIRECT_POST_SCOPE, UPLOAD_SCOPE)
