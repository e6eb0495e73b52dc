"""The `hetcalc` command: a thin translator from options to library calls and back to text.

Subcommands load lazily so that `hetcalc ARCH` never imports numpy or matplotlib.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import HetcalcError, OptionError

# command name -> (module, attribute); the modules import their heavy dependencies inside functions.
COMMANDS = {
    "analyze": ("hetcalc.cli.analyze", "analyze"),
    "list": ("hetcalc.cli.analyze", "list_architectures"),
    "plot": ("hetcalc.cli.plot", "plot"),
    "sweep": ("hetcalc.cli.sweep", "sweep"),
    "reproduce": ("hetcalc.cli.reproduce", "reproduce"),
    "import": ("hetcalc.cli.analyze", "import_model"),
    "devices": ("hetcalc.cli.devices", "devices"),
    "calibrate": ("hetcalc.cli.calibrate", "calibrate"),
    "measure": ("hetcalc.cli.measure", "measure"),
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
        import warnings

        warnings.showwarning = _warn  # a library warning (an uncounted ONNX op) is one stderr line
        try:
            rv = super().main(args=args, prog_name=prog_name or "hetcalc", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except OptionError as exc:
            _fail(str(exc), 2)
        except HetcalcError as exc:
            _fail(str(exc), 1)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else " (see 'hetcalc --help')"
            _fail(exc.format_message() + hint, exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(1)
        code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _warn(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"hetcalc: warning: {' '.join(str(message).split())}", err=True)


def _fail(message: str, code: int) -> None:
    click.echo(f"hetcalc: error: {' '.join(message.split())}", err=True)
    sys.exit(code)


@click.group(cls=HetcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hetcalc", message="hetcalc %(version)s")
def main() -> None:
    """Exact cost of CNNs built with standard, HetConv, GWC+PWC or DWC+PWC convolutions.

    Run `hetcalc ARCH [OPTIONS]` (same as `hetcalc analyze ARCH`) to compare the four ways of
    building an architecture's convolutions, following the HetConv paper's equations 1-12.

    Example:  hetcalc vgg16 --P 4
    """
