"""Legal pack: contract clause classification (CUAD or the user's own label set)."""
