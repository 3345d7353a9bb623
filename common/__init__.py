"""Below every app: the case vocabulary and database helpers that the clock, the inbox and
the workflow all speak. No models and no Django app, so anything may import it."""
