"""The hosted form: AI-Prism behind Gunicorn on AWS (App Runner or ECS Express Mode; docs/deploy.md)."""
