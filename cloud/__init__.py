"""The hosted form: AI-Prism behind Gunicorn on AWS App Runner (see docs/deploy-app-runner.md)."""
