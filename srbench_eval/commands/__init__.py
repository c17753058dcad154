"""Click commands, one module per command family; ``srbench_eval.cli`` assembles them."""
