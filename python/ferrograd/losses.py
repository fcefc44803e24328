"""Loss functions (Keras names and argument order: ``loss(y_true, y_pred)``)."""
