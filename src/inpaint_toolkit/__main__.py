from inpaint_toolkit.cli import main

raise SystemExit(main())
