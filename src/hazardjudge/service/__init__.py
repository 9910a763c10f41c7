"""The HTTP API and the inspectors' web page."""
