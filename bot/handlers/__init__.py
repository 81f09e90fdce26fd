"""Handler modules, one per concern; each registers its functions on `bot.router.router`."""
