"""The routers of the desk API, one module per resource."""
