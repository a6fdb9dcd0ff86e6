"""A notebook and helpers for the real-browser test (Voilà + Playwright + chromium)."""
