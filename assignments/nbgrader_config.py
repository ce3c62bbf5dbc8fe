# nbgrader configuration for this course's assignments (an nbgrader course directory).
# Both `nbgrader ...` and `coursebench grade ...` read it.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "dlc"

# Late penalties follow course.toml's [late_policy] (and per-assignment overrides), so
# `nbgrader autograde` and `coursebench grade autograde` agree.
c.AssignLatePenalties.plugin_class = "coursebench.grading.late.CourseLatePolicy"

# Test cells deleted by a student are put back (and reported) instead of scoring nothing.
c.OverwriteCells.add_missing_cells = True

# Feedback: a failed hidden test shows its message (never its code) when True.
c.HideHiddenTests.show_messages = False
