"""The coding agents ``memory-lifecycle init --client`` sets up, one module each.

Each module names the files its agent reads and what init adds to them
(``config_file.ConfigFile``); every one of them runs the same
``memory-lifecycle serve``, which finds the project's one store from whatever
folder the agent starts it in (``lifecycle.paths``). ``registry`` lists them by name.
"""
