// The default theme plus KaTeX's stylesheet (the markdown plugin writes KaTeX's HTML; this styles it, offline).
import DefaultTheme from 'vitepress/theme';
import 'katex/dist/katex.min.css';

export default DefaultTheme;
