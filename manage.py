#!/usr/bin/env python
from tepat.cli import main

if __name__ == "__main__":
    main()
