"""What training and evaluation share: data parallelism, the train state, checkpoints, the
model's forward pass with slot noise, and logging. Nothing here imports ``train`` or ``evaluation``.
"""
