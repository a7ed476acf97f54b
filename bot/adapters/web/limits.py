"""What one HTTP request may cost, shared by the web app (bot/adapters/web/wsgi.py) and the
gunicorn worker
(bot/adapters/web/workers.py), which enforces it before a thread sees the request."""

# Far above Slack's largest payload (a 40,000-character message, or a full edit form, in
# multi-byte text), far below what could hurt: a stranger may make the server hold this much.
MAX_BODY_BYTES = 512 * 1024
