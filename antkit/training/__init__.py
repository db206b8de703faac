"""antkit.training"""
