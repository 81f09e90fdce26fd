"""Stage 3, evaluate: the new build against the last one, the gate, the postcheck and the precheck's scoring."""
