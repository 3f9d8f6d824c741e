# Waypoint: a slim image that migrates the database, then runs the bot as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CONTENT_DIR=/app/data/roadmaps \
    DATABASE_URL=sqlite+aiosqlite:////app/state/waypoint.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY data ./data
RUN pip install . \
    && useradd --create-home --uid 10001 waypoint \
    && mkdir -p /app/state \
    && chown waypoint:waypoint /app/state

USER waypoint
VOLUME ["/app/state"]
CMD ["sh", "-c", "waypoint db upgrade && exec waypoint run"]
