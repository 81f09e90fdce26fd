"""Handler modules, one per concern; each has its own `router`, joined by `bot.router.load_handlers`."""
