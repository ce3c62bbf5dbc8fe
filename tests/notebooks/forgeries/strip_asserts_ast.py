# trick: an AST transformer removes every assert before a cell runs
# assignment: ps1
# expect: ast_transformers
# %% problem1/squares
import ast


class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()


get_ipython().ast_transformers.append(NoAsserts())
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
