# Production image: migrate, then serve on 0.0.0.0:8000.
# Required at run time: RAPPORT_SECRET_KEY and RAPPORT_DATABASE_URL (PostgreSQL for a university).
# RAPPORT_WORKERS=N serves from N processes (PostgreSQL); the same image runs the webhook sender
# as its own container with the command `rapport worker` (README: Deploying).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RAPPORT_ENV=production \
    RAPPORT_HOST=0.0.0.0 \
    RAPPORT_PORT=8000 \
    RAPPORT_WORKERS=1

RUN useradd --create-home --uid 10001 rapport
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py && pip install . && pip uninstall -y rapport && rm -rf app

COPY alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY static ./static
COPY templates ./templates
# Editable, so the app finds templates/, static/ and migrations/ beside its package.
RUN pip install --no-deps -e . && chown -R rapport:rapport /app

USER rapport
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os,sys,urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('RAPPORT_PORT', '8000'), timeout=4).status != 200)"

CMD ["sh", "-c", "rapport migrate && exec rapport serve"]
