"""Contract tests: the live API against its own OpenAPI document and route table."""
