// Importing a family's file registers it; adding a task family is one new file and one line here.
import './arithmetic';
import './threeOperand';
import './retry';

export { getTask, taskNames, evaluationSet, trainingItem, isHeldOut, EVAL_SET_SIZE } from './registry';
export type { TaskFamily, TaskItem } from './types';
