"""What training and evaluation share: data parallelism, the train state, checkpoints, the
model's forward pass with slot noise, the task losses, and logging. Nothing here imports ``train`` or
``evaluation``.
"""
