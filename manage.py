#!/usr/bin/env python
from hiretext.__main__ import main

if __name__ == "__main__":
    main()
