"""Framework integrations: Flask (``tickwork.integrations.flask``), FastAPI
(``tickwork.integrations.fastapi``) and Django (``tickwork.integrations.django``). Each is a
thin layer over the facade that runs one scheduler node per host among a web server's
workers (``tickwork.integrations.election``)."""
