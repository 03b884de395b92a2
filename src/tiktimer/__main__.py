from tiktimer.cli import main

main()
