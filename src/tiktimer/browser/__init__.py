"""What browsers get from the service: security headers, CORS, the offline API docs."""
