import sys

from questline_node.cli import node_main

sys.exit(node_main())
