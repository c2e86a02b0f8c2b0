from relubench.cli import main

raise SystemExit(main())
