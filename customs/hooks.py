"""One small, explicit registry of hooks: how an app on the left shows what apps on its right add,
without importing them (STYLE.md layers).

An app registers a function under a hook name in its ``AppConfig.ready()``; the app that owns the hook
calls ``hook_results(name, **kwargs)`` and gets what every registered function returned (``None``
results left out), in the order of ``INSTALLED_APPS``.

Hooks in use:

- ``declarations.officer_panels(request, declaration)``: a ``(template_name, context)`` pair shown on
  the officer's declaration page (the risk module's selectivity panel).
- ``declarations.portal_panels(request, declaration)``: the same on the portal's declaration page.
"""

from collections.abc import Callable

_hooks: dict[str, list[Callable]] = {}


def hook_register(name: str, function: Callable) -> None:
    """Add ``function`` to hook ``name`` (once: registering it again is a no-op)."""
    functions = _hooks.setdefault(name, [])
    if function not in functions:
        functions.append(function)


def hook_results(name: str, **kwargs) -> list:
    """What each function of hook ``name`` returns for ``kwargs``, ``None`` left out."""
    results = []
    for function in _hooks.get(name, []):
        result = function(**kwargs)
        if result is not None:
            results.append(result)
    return results
