"""The `hetcalc` command: a thin translator from options to library calls and back to text.

Subcommands load lazily so that `hetcalc ARCH` never imports numpy or matplotlib.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from hetcalc.core.errors import HetcalcError, OptionError

# command name -> (module, attribute); the modules import their heavy dependencies inside functions.
COMMANDS = {
    "analyze": ("hetcalc.cli.analyze", "analyze"),
    "list": ("hetcalc.cli.analyze", "list_architectures"),
    "plot": ("hetcalc.cli.plot", "plot"),
    "sweep": ("hetcalc.cli.sweep", "sweep"),
    "reproduce": ("hetcalc.cli.reproduce", "reproduce"),
    "report": ("hetcalc.cli.report", "report"),
    "import": ("hetcalc.cli.analyze", "import_model"),
    "devices": ("hetcalc.cli.devices", "devices"),
    "calibrate": ("hetcalc.cli.calibrate", "calibrate"),
    "measure": ("hetcalc.cli.measure", "measure"),
    "reconcile": ("hetcalc.cli.reconcile", "reconcile"),
}
GROUP_OPTIONS = ("--help", "-h", "--version")


class HetcalcGroup(click.Group):
    """Lazy subcommands; an architecture name in first place runs `analyze`; one-line errors."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def parse_args(self, ctx, args):
        if args and args[0] not in COMMANDS and args[0] not in GROUP_OPTIONS:
            args = ["analyze", *args]
        return super().parse_args(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run a command inside the error boundary: every failure becomes one line and an exit code."""
        import warnings

        warnings.showwarning = _warn  # a library warning (an uncounted ONNX op) is one stderr line
        code = _guarded(lambda: load_plugins() or super(HetcalcGroup, self).main(
            args=args, prog_name=prog_name or "hetcalc", complete_var=complete_var, standalone_mode=False,
            **extra))
        if standalone_mode:
            import gc

            gc.freeze()  # the interpreter's last collection at exit would walk every object of a big network
            sys.exit(code)
        return code


_PLUGINS_LOADED: set[str] = set()


def load_plugins() -> None:
    """Import the modules named in $HETCALC_PLUGINS (comma-separated), before any command is loaded: each adds
    what it registers (a convolution type, an output format, an importer) when imported or in its register().
    Like PYTHONPATH, the variable runs the code it names: set it only to modules you trust."""
    names = [n.strip() for n in os.environ.get("HETCALC_PLUGINS", "").split(",") if n.strip()]
    for name in names:
        if name in _PLUGINS_LOADED:
            continue
        try:
            module = importlib.import_module(name)
            register = getattr(module, "register", None)
            if callable(register):
                register()
        except Exception as exc:  # noqa: BLE001 - any failure of a plug-in is one line naming it
            raise OptionError(f"HETCALC_PLUGINS: cannot load {name!r}: {type(exc).__name__}: {exc}") from None
        _PLUGINS_LOADED.add(name)


def _warn(message, category, filename, lineno, file=None, line=None) -> None:
    from hetcalc.cli.streams import one_line

    try:
        click.echo(f"hetcalc: warning: {one_line(str(message))}", err=True)
    except (OSError, ValueError, UnicodeError):
        pass


def _guarded(run) -> int:
    """The one error boundary: domain errors, usage errors, OS and encoding errors, signals -> one line."""
    from hetcalc.cli.outputs import install_signal_handlers, restore_signal_handlers

    previous = install_signal_handlers()
    try:
        return _boundary(run)
    finally:
        restore_signal_handlers(previous)


def _boundary(run) -> int:
    from hetcalc.cli.outputs import Interrupted, command_outputs, remove_temporaries
    from hetcalc.cli.streams import ClosedStream, describe_encode_error, describe_os_error, silence_stdout

    if sys.stdout is None:  # started with standard output closed: writing to it must fail, not vanish
        sys.stdout = ClosedStream("standard output")
    try:
        try:
            with command_outputs():
                rv = run()
            sys.stdout.flush()  # a full device or a closed pipe fails here, not silently at exit
        finally:
            remove_temporaries()
    except OptionError as exc:
        return _fail(str(exc), 2)
    except HetcalcError as exc:
        return _fail(str(exc), 1)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return 0
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else " (see 'hetcalc --help')"
        return _fail(exc.format_message() + hint, exc.exit_code)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C inside a command into Abort
            silence_stdout()
            return _fail("interrupted (SIGINT); no file was changed", 130)
        return _fail("aborted", 1)
    except KeyboardInterrupt:
        silence_stdout()
        return _fail("interrupted (SIGINT); no file was changed", 130)
    except Interrupted as exc:
        silence_stdout()
        return _fail(f"interrupted ({exc}); no file was changed", 128 + exc.signum)
    except BrokenPipeError:
        silence_stdout()
        return 1
    except OSError as exc:
        silence_stdout(exc)
        return _fail(describe_os_error(exc), 1)
    except UnicodeError as exc:
        silence_stdout(exc)
        return _fail(describe_encode_error(exc), 1)
    except RecursionError:
        return _fail("input nested too deeply to process", 1)
    except MemoryError:
        return _fail("out of memory; try a smaller input or --summary-only", 1)
    return rv if isinstance(rv, int) else 0


def _fail(message: str, code: int) -> int:
    from hetcalc.cli.streams import one_line

    try:
        click.echo(f"hetcalc: error: {one_line(message)}", err=True)
    except (OSError, ValueError, UnicodeError):
        pass  # standard error itself is gone: the exit code still tells
    return code


@click.group(cls=HetcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hetcalc", message="hetcalc %(version)s")
def main() -> None:
    """Exact cost of CNNs built with standard, HetConv, GWC+PWC or DWC+PWC convolutions.

    Run `hetcalc ARCH [OPTIONS]` (same as `hetcalc analyze ARCH`) to compare the four ways of
    building an architecture's convolutions, following the HetConv paper's equations 1-12.

    Example:  hetcalc vgg16 --P 4
    """
