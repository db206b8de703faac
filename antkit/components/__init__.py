"""antkit.components"""
