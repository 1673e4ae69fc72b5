"""The ``tepat`` command: Django's manage.py under Tepat's own name.

`tepat tpp compute` is the exception: continuity mode computes TPP from files and must run with
no database and no network, so it is dispatched here before Django is imported or set up.
"""

import os
import sys


def main() -> None:
    if sys.argv[1:3] == ["tpp", "compute"]:
        from tepat.tpp.continuity import main as tpp_compute

        sys.exit(tpp_compute(sys.argv[3:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
