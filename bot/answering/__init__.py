"""Answering: the pipeline that turns a :class:`bot.types.Question` into a :class:`bot.types.Reply`.

:class:`~bot.answering.responder.Firstline` runs a list of small steps, built once
(:func:`~bot.answering.responder.build_steps`), over one :class:`~bot.answering.record.AnswerRecord`
per answer; each step is a module that gets only the parts it needs. Adding a step is one module
and one line in that list.
"""
