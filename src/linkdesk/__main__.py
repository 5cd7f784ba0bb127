from linkdesk.cli import main

main()
