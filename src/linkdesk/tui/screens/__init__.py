"""The screens of the console; each is reached through the router by its route name."""
