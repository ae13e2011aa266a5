"""The web adapter: the FastAPI app (``app.create_app``), its REST API and its pages."""
