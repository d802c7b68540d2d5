"""Gradio demos, one per pack, on a shared builder (demos/builder.py)."""
