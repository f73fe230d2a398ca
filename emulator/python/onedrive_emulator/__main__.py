"""`python -m onedrive_emulator ...`: the same as the `onedrive-emulator` console script."""

from ._cli import main

main()
