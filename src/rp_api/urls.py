"""The API's base path (Belgif: ``/rp/v1``), for the routers that mount under it and the documents that link to it."""

API_PREFIX = "/rp/v1"
