"""Workflows: DAGs of jobs. ``graph`` validates a definition and decides what a step does;
``progress`` advances workflow runs inside the transactions that record their steps' runs'
ends (run hooks), so every node can carry on what another started."""
