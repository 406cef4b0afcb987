// Lint rules for the extension and its tests (GJS: ES modules, GJS and Shell globals).
import js from '@eslint/js';
import globals from 'globals';

const gjsGlobals = {
    ARGV: 'readonly',
    console: 'readonly',
    global: 'readonly', // the Shell's, in extension code only
    globalThis: 'readonly',
    imports: 'readonly',
    log: 'readonly',
    logError: 'readonly',
    print: 'readonly',
    printerr: 'readonly',
    TextDecoder: 'readonly',
    TextEncoder: 'readonly',
};

export default [
    {ignores: ['node_modules/']},
    js.configs.recommended,
    {
        files: ['**/*.js'],
        languageOptions: {
            ecmaVersion: 2022,
            sourceType: 'module',
            globals: {...globals.es2021, ...gjsGlobals},
        },
        rules: {
            'eqeqeq': 'error',
            'no-unused-vars': ['error', {argsIgnorePattern: '^_'}],
            'prefer-const': 'error',
            'no-var': 'error',
            'curly': ['error', 'multi-or-nest', 'consistent'],
            // GObject.registerClass(class X ...) keeps the class body at the outer level,
            // as GNOME Shell's own code does.
            'indent': ['error', 4, {
                ignoredNodes: ['CallExpression[callee.object.name=GObject][callee.property.name=registerClass] > ClassExpression:first-child'],
            }],
            'quotes': ['error', 'single', {avoidEscape: true}],
            'semi': ['error', 'always'],
        },
    },
    {
        // The model follows bus signals; a timer there would be polling.
        files: ['winvmModel.js'],
        rules: {
            'no-restricted-properties': ['error',
                ...['timeout_add', 'timeout_add_seconds', 'idle_add'].map(property =>
                    ({object: 'GLib', property, message: 'the model must not poll: follow a signal'}))],
            'no-restricted-globals': ['error', 'setTimeout', 'setInterval'],
        },
    },
    {
        files: ['eslint.config.js'],
        languageOptions: {globals: globals.node},
    },
];
