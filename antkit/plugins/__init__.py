"""Plugin system: hook specifications, the registry, and loading (built-ins and entry points)."""

import pluggy

hookimpl = pluggy.HookimplMarker("antkit")
