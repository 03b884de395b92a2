"""The flat keyword names `Settings` took before its groups, and the group field each is now.

`Settings(database_url_raw=...)` (and `load_settings(...)`) still work: they are routed to
`settings.database.url_raw`. Environment variable names are another matter: each field
declares its own, unchanged, in its group.
"""

from __future__ import annotations

FLAT_NAMES: dict[str, tuple[str, str]] = {
    # server
    "host": ("server", "host"),
    "port": ("server", "port"),
    "public_url": ("server", "public_url"),
    "media_public_url": ("server", "media_public_url"),
    "cors_origins_raw": ("server", "cors_origins_raw"),
    "otel": ("server", "otel"),
    "log_level": ("server", "log_level"),
    "fetch_allow": ("server", "fetch_allow"),
    # database
    "database_url_raw": ("database", "url_raw"),
    "db_connect_retries": ("database", "connect_retries"),
    "db_pool_size": ("database", "pool_size"),
    # auth
    "secret_key": ("auth", "secret_key"),
    "algorithm": ("auth", "algorithm"),
    "access_token_expire_minutes": ("auth", "access_token_expire_minutes"),
    "refresh_token_expire_days": ("auth", "refresh_token_expire_days"),
    "password_hash_threads": ("auth", "password_hash_threads"),
    "token_keys_raw": ("auth", "token_keys_raw"),
    "rate_limits_enabled": ("auth", "rate_limits_enabled"),
    "rate_limit_login_ip": ("auth", "rate_limit_login_ip"),
    "rate_limit_login_user": ("auth", "rate_limit_login_user"),
    "rate_limit_login_account": ("auth", "rate_limit_login_account"),
    "login_lockout_seconds": ("auth", "login_lockout_seconds"),
    "rate_limit_register": ("auth", "rate_limit_register"),
    "rate_limit_refresh": ("auth", "rate_limit_refresh"),
    # limits
    "max_json_body_kb": ("limits", "max_json_body_kb"),
    "body_timeout_seconds": ("limits", "body_timeout_seconds"),
    "max_header_kb": ("limits", "max_header_kb"),
    "import_max_rows": ("limits", "import_max_rows"),
    "import_max_kb": ("limits", "import_max_kb"),
    # storage (data_dir goes to every group that keeps files there)
    "storage": ("storage", "backend"),
    "s3_bucket": ("storage", "s3_bucket"),
    "s3_prefix": ("storage", "s3_prefix"),
    "s3_endpoint_url": ("storage", "s3_endpoint_url"),
    "s3_region": ("storage", "s3_region"),
    "upload_dir_raw": ("storage", "upload_dir_raw"),
    # media
    "max_upload_mb": ("media", "max_upload_mb"),
    "upload_expire_hours": ("media", "upload_expire_hours"),
    "media_max_duration_sec": ("media", "max_duration_sec"),
    "media_url_ttl_seconds": ("media", "url_ttl_seconds"),
    "media_unused_ttl_hours": ("media", "unused_ttl_hours"),
    "media_keep_published_days": ("media", "keep_published_days"),
    "media_gc_interval_minutes": ("media", "gc_interval_minutes"),
    # tiktok
    "tiktok_client_key": ("tiktok", "client_key"),
    "tiktok_client_secret": ("tiktok", "client_secret"),
    "tiktok_redirect_uri": ("tiktok", "redirect_uri"),
    "tiktok_auth_url": ("tiktok", "auth_url"),
    "tiktok_api_base": ("tiktok", "api_base"),
    "tiktok_scopes": ("tiktok", "scopes"),
    "tiktok_sandbox": ("tiktok", "sandbox"),
    "sandbox_webhooks": ("tiktok", "sandbox_webhooks"),
    "webhook_tolerance_seconds": ("tiktok", "webhook_tolerance_seconds"),
    "creator_info_cache_seconds": ("tiktok", "creator_info_cache_seconds"),
    "tiktok_daily_post_cap": ("tiktok", "daily_post_cap"),
    "tiktok_pending_share_cap": ("tiktok", "pending_share_cap"),
    "rate_limit_init": ("tiktok", "rate_limit_init"),
    "rate_limit_status": ("tiktok", "rate_limit_status"),
    "rate_limit_creator_info": ("tiktok", "rate_limit_creator_info"),
    # scheduler
    "run_scheduler": ("scheduler", "in_process"),
    "worker_concurrency": ("scheduler", "concurrency"),
    "scheduler_poll_seconds": ("scheduler", "poll_seconds"),
    "scheduler_batch_size": ("scheduler", "batch_size"),
    "scheduler_lease_seconds": ("scheduler", "lease_seconds"),
    "scheduler_heartbeat_seconds": ("scheduler", "heartbeat_seconds"),
    "scheduler_shutdown_grace_seconds": ("scheduler", "shutdown_grace_seconds"),
    "publish_max_attempts": ("scheduler", "publish_max_attempts"),
    "publish_retry_base_seconds": ("scheduler", "publish_retry_base_seconds"),
    "publish_retry_cap_seconds": ("scheduler", "publish_retry_cap_seconds"),
    "status_poll_first_seconds": ("scheduler", "status_poll_first_seconds"),
    "status_poll_max_seconds": ("scheduler", "status_poll_max_seconds"),
    "status_poll_give_up_minutes": ("scheduler", "status_poll_give_up_minutes"),
    "rate_limit_window_seconds": ("scheduler", "rate_limit_window_seconds"),
    "redis_url": ("scheduler", "redis_url"),
    # planning
    "series_horizon_days": ("planning", "series_horizon_days"),
    "series_interval_minutes": ("planning", "series_interval_minutes"),
    "feed_past_days": ("planning", "feed_past_days"),
    "feed_ahead_days": ("planning", "feed_ahead_days"),
    # metrics
    "metrics_token": ("metrics", "token"),
    "metrics_worker_port": ("metrics", "worker_port"),
    "metrics_worker_host": ("metrics", "worker_host"),
}
