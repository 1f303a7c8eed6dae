"""The dashboard: one static page (`index.html`) served at `/`, drawing with canvas."""
