"""What lets several Tepat application nodes serve one regency or province: the shared cache
table, the read-replica router and the retry of failed background tasks (docs/deploy.md)."""
