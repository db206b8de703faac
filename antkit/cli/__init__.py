"""antkit.cli"""
